"""The ports between koppel's layers: the records and protocols that flows and stores share.

Flows depend on these and on `koppel.connectors.base`; stores implement them. Nothing here imports
a flow, a store or boto3, so imports only point down.
"""
