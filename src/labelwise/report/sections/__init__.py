"""Report section builders, one module per part of labelwise."""
