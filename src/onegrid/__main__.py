from onegrid.cli import main

main()
