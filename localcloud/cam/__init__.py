"""CAM (`cam`, version 2019-01-16): users, groups, policies, attachments, API keys and their last use.

Importing the package registers every action on `cam`.
"""

from localcloud.cam import access_keys, groups, last_used, policies, users
from localcloud.cam.common import cam
from localcloud.cam.policies import install_presets
from localcloud.cam.users import add_user

__all__ = ["access_keys", "add_user", "cam", "groups", "install_presets", "last_used", "policies", "users"]
