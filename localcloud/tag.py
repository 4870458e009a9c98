"""Tags (`tag`, version 2018-08-13): the two calls the provider's CAM resources make.

Resources are named by six-segment names, `qcs::<service>:<region>:uin/<account>:<prefix>/<id>`.
Whether the resource exists is not checked, as the tag service keeps tags by name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from localcloud.errors import ApiError
from localcloud.params import Int, ListOf, Obj, Str
from localcloud.service import Context, Service

tag = Service("tag", "2018-08-13")

MAX_TAGS_PER_RESOURCE = 50
SIX_SEGMENT = re.compile(
    r"qcs::(?P<service>[a-z0-9]+):(?P<region>[a-z0-9-]*):uin/(?P<account>\d*):(?P<prefix>[A-Za-z0-9_-]+)/(?P<id>.+)"
)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


@tag.action(
    "DescribeResourceTagsByResourceIds",
    writes=False,
    ServiceType=Str(required=True),
    ResourcePrefix=Str(required=True),
    ResourceIds=ListOf(required=True, max_items=50),
    ResourceRegion=Str(required=True),
    Offset=Int(minimum=0),
    Limit=Int(minimum=1, maximum=100),
    Category=Str(choices=("Custom", "System", "All")),
)
def describe_resource_tags_by_resource_ids(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ids = p["ResourceIds"]
    categories = ("Custom", "System") if p.get("Category", "Custom") == "All" else (p.get("Category", "Custom"),)
    id_marks, category_marks = ",".join("?" * len(ids)) or "NULL", ",".join("?" * len(categories))
    rows = ctx.db.execute(
        "SELECT * FROM tags WHERE service = ? AND prefix = ? AND region = ?"
        f" AND resource_id IN ({id_marks}) AND category IN ({category_marks})"
        " ORDER BY resource_id, tag_key",
        (p["ServiceType"], p["ResourcePrefix"], p["ResourceRegion"], *ids, *categories),
    ).fetchall()
    offset, limit = p.get("Offset", 0), p.get("Limit", 15)
    return {
        "TotalCount": len(rows),
        "Offset": offset,
        "Limit": limit,
        "Tags": [
            {
                "TagKey": r["tag_key"],
                "TagValue": r["tag_value"],
                "ResourceId": r["resource_id"],
                "TagKeyMd5": _md5(r["tag_key"]),
                "TagValueMd5": _md5(r["tag_value"]),
                "ServiceType": r["service"],
                "Category": r["category"],
            }
            for r in rows[offset : offset + limit]
        ],
    }


@tag.action(
    "ModifyResourceTags",
    writes=True,
    Resource=Str(required=True),
    ReplaceTags=ListOf(
        max_items=MAX_TAGS_PER_RESOURCE,
        item=Obj(
            fields={
                "TagKey": Str(required=True, max_len=127),
                "TagValue": Str(required=True, max_len=255),
                "Category": Str(),
            }
        ),
    ),
    DeleteTags=ListOf(max_items=MAX_TAGS_PER_RESOURCE, item=Obj(fields={"TagKey": Str(required=True)})),
)
def modify_resource_tags(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    resource = SIX_SEGMENT.fullmatch(p["Resource"])
    if resource is None:
        raise ApiError(
            "InvalidParameterValue.ResourceDescriptionError",
            "Resource must be a six-segment name: qcs::<service>:<region>:uin/<account>:<prefix>/<id>.",
        )
    if not p.get("ReplaceTags") and not p.get("DeleteTags"):
        raise ApiError("MissingParameter", "The request needs ReplaceTags or DeleteTags.")
    key = (resource["service"], resource["prefix"], resource["region"], resource["id"])
    replaced = {t["TagKey"] for t in p.get("ReplaceTags", [])}
    deleted = {t["TagKey"] for t in p.get("DeleteTags", [])}
    if replaced & deleted:
        raise ApiError("InvalidParameterValue.DeleteTagsParamError", "A tag key cannot be both replaced and deleted.")
    for tag_key in deleted:
        ctx.db.execute(
            "DELETE FROM tags WHERE service = ? AND prefix = ? AND region = ? AND resource_id = ? AND tag_key = ?",
            (*key, tag_key),
        )
    for item in p.get("ReplaceTags", []):
        ctx.db.execute(
            "INSERT INTO tags (service, prefix, region, resource_id, tag_key, tag_value) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET tag_value = excluded.tag_value",
            (*key, item["TagKey"], item["TagValue"]),
        )
    count = ctx.db.execute(
        "SELECT COUNT(*) FROM tags WHERE service = ? AND prefix = ? AND region = ? AND resource_id = ?", key
    ).fetchone()[0]
    if count > MAX_TAGS_PER_RESOURCE:
        # The transaction is rolled back, so the resource keeps its old tags.
        raise ApiError(
            "LimitExceeded.ResourceAttachedTags", f"A resource may have at most {MAX_TAGS_PER_RESOURCE} tags."
        )
    return {}
