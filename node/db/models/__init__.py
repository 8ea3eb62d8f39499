"""All tables, one module per concept; importing this package registers them all."""

from node.db.models.activities import ReceivedActivity
from node.db.models.actors import Actor, User
from node.db.models.base import Base
from node.db.models.delivery import Delivery, DomainState
from node.db.models.follows import Block, Follow
from node.db.models.posts import Like, Mention, Post
from node.db.models.settings import NodeSetting
from node.db.models.timelines import TimelineEntry

__all__ = [
    "Actor",
    "Base",
    "Block",
    "Delivery",
    "DomainState",
    "Follow",
    "Like",
    "Mention",
    "NodeSetting",
    "Post",
    "ReceivedActivity",
    "TimelineEntry",
    "User",
]
