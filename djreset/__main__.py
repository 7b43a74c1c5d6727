from djreset.cli import program

program.run()
