from dbops.cli.main import run

run()
