"""The flows: business logic between connectors and stores. No boto3, no os.environ here."""
