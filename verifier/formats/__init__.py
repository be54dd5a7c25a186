"""What a file is and how to read an untrusted archive: shared by the auditor (compare/)
and the sandbox (environment and source archives), which never import each other.

``sniff`` names formats from their first bytes (the one format sniffer); ``reading`` opens
archives with libarchive by explicit format and filter, gives member names as bytes, and
keeps the unpack budgets.
"""
