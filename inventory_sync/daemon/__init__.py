"""The long-running service: scheduled pulls and reconciles, signals, systemd notify, health."""
