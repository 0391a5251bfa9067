"""Persistence: koppel's DynamoDB table behind small reader/writer protocols."""
