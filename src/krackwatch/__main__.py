from krackwatch.cli.main import main

main()
