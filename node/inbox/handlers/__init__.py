"""One module per activity type; importing this package registers them all."""

from node.inbox.handlers import (  # noqa: F401
    accept,
    announce,
    block,
    create,
    delete,
    flag,
    follow,
    invite,
    like,
    move,
    reject,
    remove,
    undo,
    update,
)
