from krackwatch.cli.app import main

main()
