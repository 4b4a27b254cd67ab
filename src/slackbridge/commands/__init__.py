"""Command routing: the product's declared commands, matched against what people type.

The pure core: :mod:`.pattern` (the pattern language), :mod:`.tokens` (a message split into
words, quoted strings and mentions), :mod:`.values` and :mod:`.dates` (typed arguments),
:mod:`.match` (a message against the declared commands), :mod:`.suggest` (near misses),
:mod:`.help` (the help answer), :mod:`.render` (a command written out from its arguments) and
:mod:`.route` (a normalized Slack event → ``command.matched`` or a help answer). The edges:
:mod:`.declared` (the declared set in the store), :mod:`.answer` (help through the outbox) and
:mod:`.routing` (the inbox pipeline's step, given to the inbox worker at composition).
docs/commands.md is the user's manual.
"""
