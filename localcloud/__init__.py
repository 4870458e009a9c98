"""localcloud: a local stand-in for the part of Tencent Cloud CAM (and tags) that im-access uses."""
