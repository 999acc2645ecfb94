from weir.cli.main import entry

entry()
