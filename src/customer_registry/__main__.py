from customer_registry.cli import main

main()
