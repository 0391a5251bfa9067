"""koppel: the shared layer of the order and stock integration hub."""
