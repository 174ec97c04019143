// Parses LogQL expressions with Grafana's own LogQL grammar (@grafana/lezer-logql, the parser
// behind Grafana's query editor). Input on stdin: a JSON object name -> expression. Output: a
// JSON object name -> list of syntax errors (position and the text around it); exit 1 if any.
const { parser } = require('@grafana/lezer-logql');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const found = {};
  for (const [name, expr] of Object.entries(JSON.parse(input))) {
    const errors = [];
    parser.parse(expr).iterate({
      enter: (node) => {
        if (node.type.isError) {
          errors.push(`at ${node.from}: ${expr.slice(Math.max(0, node.from - 30), node.from + 10)}`);
        }
      },
    });
    found[name] = errors;
  }
  process.stdout.write(JSON.stringify(found));
  process.exit(Object.values(found).some((e) => e.length) ? 1 : 0);
});
