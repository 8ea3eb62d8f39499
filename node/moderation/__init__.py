"""Moderation: reports (and the ``Flag`` activities that carry them between servers),
the admins' actions on accounts and posts, and account moves (``Move``, ``alsoKnownAs``).

Everything follows Mastodon, the server most peers run: same API shapes, same activity
shapes, same effects, so a report or a move crosses between Cercle and Mastodon intact.
"""
