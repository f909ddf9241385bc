"""cellfoundry: an open platform for synthetic-biology manufacturing.

The packages follow the loop bank → design → build → test → learn → scale-up.
``cellfoundry.core`` holds the value types every layer shares; ``cellfoundry.bank``
is the strain, plasmid and parts collection; ``cellfoundry.dna`` holds the pure
sequence engines; ``cellfoundry.api``, ``cellfoundry.web`` and ``cellfoundry.cli``
are the interfaces.
"""

__version__ = "0.1.0"
