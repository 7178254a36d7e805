"""Tagging at scale: readers and writers of archives, the local batch engine, Dask.

Every engine turns input rows into ``records.Record``s and tags them through the one per-record
core (``records.tag_chunk``): the same output records and error records whether a chunk runs
here, in a worker process (``pool``, ``batch``) or on a Dask cluster (``cluster``).
"""
