"""The strain, plasmid and parts bank: a culture collection's catalogue and stock.

Use :class:`cellfoundry.bank.services.Bank` to store and find entries, and
:mod:`cellfoundry.bank.formats` to read and write GenBank, FASTA, SBOL3 and the
catalogue CSV. :mod:`cellfoundry.bank.models` holds the plain values.
"""
