from djreset.cli import main

main()
