"""The numpy runtime: a batched interpreter whose integer results equal TFLite Micro's."""
