"""All tables, one module per concept; importing this package registers them all."""

from node.db.models.activities import ReceivedActivity
from node.db.models.actors import Actor, ActorStats, User
from node.db.models.base import Base
from node.db.models.circles import Circle, CircleMember, PostCircle, PostRecipient
from node.db.models.delivery import Delivery, DomainState
from node.db.models.follows import Block, Follow
from node.db.models.group_invitations import GroupInvitation
from node.db.models.groups import GroupRole, GroupSettings
from node.db.models.identity import (
    AuditEntry,
    LegalHold,
    OidcLogin,
    RetentionPolicy,
    ScimGroup,
    ScimGroupMember,
    ScimToken,
    UserIdentity,
)
from node.db.models.interests import FollowedTag
from node.db.models.moderation import AccountModeration, Report
from node.db.models.oauth import OAuthApp, OAuthCode, OAuthToken
from node.db.models.partners import Partnership
from node.db.models.places import Site, SiteMember
from node.db.models.posts import Like, Mention, Post
from node.db.models.settings import NodeSetting
from node.db.models.social import (
    Bookmark,
    IdempotencyKey,
    ListMember,
    Marker,
    MediaAttachment,
    Mute,
    Notification,
    Pin,
    Poll,
    PollVote,
    PostEdit,
    PostTag,
    UserList,
)
from node.db.models.timelines import TimelineEntry
from node.db.models.web_session_records import WebSessionRecord

__all__ = [
    "AccountModeration",
    "Actor",
    "ActorStats",
    "AuditEntry",
    "Base",
    "Block",
    "Bookmark",
    "Circle",
    "CircleMember",
    "Delivery",
    "DomainState",
    "Follow",
    "FollowedTag",
    "GroupInvitation",
    "GroupRole",
    "GroupSettings",
    "IdempotencyKey",
    "LegalHold",
    "Like",
    "ListMember",
    "Marker",
    "MediaAttachment",
    "Mention",
    "Mute",
    "NodeSetting",
    "Notification",
    "OAuthApp",
    "OAuthCode",
    "OAuthToken",
    "OidcLogin",
    "Partnership",
    "Pin",
    "Poll",
    "PollVote",
    "Post",
    "PostCircle",
    "PostEdit",
    "PostRecipient",
    "PostTag",
    "ReceivedActivity",
    "Report",
    "RetentionPolicy",
    "ScimGroup",
    "ScimGroupMember",
    "ScimToken",
    "Site",
    "SiteMember",
    "TimelineEntry",
    "User",
    "UserIdentity",
    "UserList",
    "WebSessionRecord",
]
