"""The preset (type 2, "QCS") policies every account starts with: hundreds, as in a real account,
so a reader of ListPolicies reads more than one page.

Names and ids follow Tencent Cloud where they are known. QcloudIMReadOnlyAccess has no
published id, so 900001 here is this emulator's own; look presets up by name, as im-access does.
QcloudIMSFullAccess (Image Moderation) is included because its name resembles IM's. Beyond the
named few, each product below gets the usual pair, `Qcloud<Product>FullAccess` (`name/<service>:*`)
and `Qcloud<Product>ReadOnlyAccess` (its Describe/List/Get actions), with ids chosen by localcloud
from GENERATED_FIRST_ID.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Preset:
    policy_id: int
    name: str
    description: str
    service_type: str
    statement: list[dict[str, Any]]

    @property
    def document(self) -> str:
        return json.dumps({"version": "2.0", "statement": self.statement}, separators=(",", ":"))


NAMED_PRESETS = (
    Preset(
        1,
        "AdministratorAccess",
        "Full access to all resources, users, permissions and billing.",
        "",
        [{"effect": "allow", "action": ["*"], "resource": ["*"]}],
    ),
    Preset(
        2,
        "QCloudResourceFullAccess",
        "Full access to all cloud resources, but not to CAM or billing.",
        "",
        [
            {"effect": "allow", "action": ["*"], "resource": ["*"]},
            {"effect": "deny", "action": ["name/cam:*", "name/finance:*"], "resource": ["*"]},
        ],
    ),
    Preset(
        400411,
        "ReadOnlyAccess",
        "Read-only access to all cloud resources that support it.",
        "",
        [{"effect": "allow", "action": ["name/*:Describe*", "name/*:List*", "name/*:Get*"], "resource": ["*"]}],
    ),
    Preset(
        524252,
        "QcloudAVCFullAccess",
        "Full read and write access to Instant Messaging (IM).",
        "im",
        [{"effect": "allow", "action": ["name/avc:*", "name/im:*"], "resource": ["*"]}],
    ),
    Preset(
        900001,
        "QcloudIMReadOnlyAccess",
        "Read-only access to Instant Messaging (IM).",
        "im",
        [{"effect": "allow", "action": ["name/im:Describe*", "name/im:Get*"], "resource": ["*"]}],
    ),
    Preset(
        900002,
        "QcloudIMSFullAccess",
        "Full access to Image Moderation System (IMS).",
        "ims",
        [{"effect": "allow", "action": ["name/ims:*"], "resource": ["*"]}],
    ),
    Preset(
        900003,
        "QcloudCamReadOnlyAccess",
        "Read-only access to Cloud Access Management (CAM).",
        "cam",
        [{"effect": "allow", "action": ["name/cam:Get*", "name/cam:List*"], "resource": ["*"]}],
    ),
    Preset(
        900004,
        "QcloudCamFullAccess",
        "Full access to Cloud Access Management (CAM): users, groups, roles, policies and keys.",
        "cam",
        [{"effect": "allow", "action": ["name/cam:*"], "resource": ["*"]}],
    ),
)

# (the product's name in preset policy names, its CAM service namespace, what it is). IM (avc/im)
# and IMS keep their own presets above and are not repeated here.
PRODUCTS = (
    ("CVM", "cvm", "Cloud Virtual Machine"),
    ("CBS", "cbs", "Cloud Block Storage"),
    ("VPC", "vpc", "Virtual Private Cloud"),
    ("CLB", "clb", "Cloud Load Balancer"),
    ("COS", "cos", "Cloud Object Storage"),
    ("CDN", "cdn", "Content Delivery Network"),
    ("CDB", "cdb", "TencentDB for MySQL"),
    ("Redis", "redis", "TencentDB for Redis"),
    ("MongoDB", "mongodb", "TencentDB for MongoDB"),
    ("Postgres", "postgres", "TencentDB for PostgreSQL"),
    ("SQLServer", "sqlserver", "TencentDB for SQL Server"),
    ("MariaDB", "mariadb", "TencentDB for MariaDB"),
    ("DCDB", "dcdb", "TDSQL distributed"),
    ("CynosDB", "cynosdb", "TDSQL-C"),
    ("TDMQ", "tdmq", "TDMQ"),
    ("CKafka", "ckafka", "Message queue CKafka"),
    ("CMQ", "cmq", "Cloud Message Queue"),
    ("ES", "es", "Elasticsearch Service"),
    ("EMR", "emr", "Elastic MapReduce"),
    ("SCF", "scf", "Serverless Cloud Function"),
    ("TKE", "tke", "Tencent Kubernetes Engine"),
    ("TCR", "tcr", "Tencent Container Registry"),
    ("CLS", "cls", "Cloud Log Service"),
    ("Monitor", "monitor", "Cloud Monitor"),
    ("KMS", "kms", "Key Management Service"),
    ("SSM", "ssm", "Secrets Manager"),
    ("SSL", "ssl", "SSL certificates"),
    ("WAF", "waf", "Web Application Firewall"),
    ("Antiddos", "antiddos", "Anti-DDoS"),
    ("CWP", "cwp", "Cloud Workload Protection"),
    ("CloudAudit", "cloudaudit", "CloudAudit"),
    ("DNSPod", "dnspod", "DNSPod"),
    ("Domain", "domain", "Domain registration"),
    ("APIGateway", "apigateway", "API Gateway"),
    ("TSF", "tsf", "Tencent Service Framework"),
    ("TEM", "tem", "Elastic Microservice"),
    ("CFS", "cfs", "Cloud File Storage"),
    ("CHDFS", "chdfs", "Cloud HDFS"),
    ("Lighthouse", "lighthouse", "Lighthouse"),
    ("AS", "as", "Auto Scaling"),
    ("BM", "bm", "Bare Metal"),
    ("GAAP", "gaap", "Global Application Acceleration"),
    ("ECM", "ecm", "Edge Computing Machine"),
    ("TAT", "tat", "TencentCloud Automation Tools"),
    ("DTS", "dts", "Data Transmission Service"),
    ("DBbrain", "dbbrain", "DBbrain"),
    ("CDWCH", "cdwch", "ClickHouse"),
    ("Oceanus", "oceanus", "Stream Compute Service"),
    ("WeData", "wedata", "WeData"),
    ("DLC", "dlc", "Data Lake Compute"),
    ("VOD", "vod", "Video on Demand"),
    ("Live", "live", "Cloud Streaming Services"),
    ("TRTC", "trtc", "Real-Time Communication"),
    ("MPS", "mps", "Media Processing Service"),
    ("TIW", "tiw", "Interactive Whiteboard"),
    ("OCR", "ocr", "Optical Character Recognition"),
    ("ASR", "asr", "Automatic Speech Recognition"),
    ("TTS", "tts", "Text To Speech"),
    ("NLP", "nlp", "Natural Language Processing"),
    ("TMT", "tmt", "Machine Translation"),
    ("IAI", "iai", "Face Recognition"),
    ("FaceID", "faceid", "FaceID"),
    ("TIONE", "tione", "TI-ONE"),
    ("HAI", "hai", "High-performance application service"),
    ("SMS", "sms", "Short Message Service"),
    ("SES", "ses", "Simple Email Service"),
    ("TPNS", "tpns", "Push Notification Service"),
    ("Captcha", "captcha", "Captcha"),
    ("TMS", "tms", "Text Moderation"),
    ("VM", "vm", "Video Moderation"),
    ("Finance", "finance", "Billing"),
    ("Organization", "organization", "Tencent Cloud Organization"),
    ("Tag", "tag", "Tag"),
    ("TCB", "tcb", "CloudBase"),
    ("EB", "eb", "EventBridge"),
    ("CI", "ci", "Cloud Infinite"),
    ("TCSS", "tcss", "Tencent Container Security Service"),
    ("CFW", "cfw", "Cloud Firewall"),
    ("SSA", "ssa", "Security Situation Awareness"),
    ("BH", "bh", "Bastion Host"),
    ("DSGC", "dsgc", "Data Security Governance Center"),
    ("TEO", "teo", "EdgeOne"),
    ("ECDN", "ecdn", "Enterprise Content Delivery Network"),
    ("DC", "dc", "Direct Connect"),
    ("CCN", "vpc", "Cloud Connect Network"),
    ("PrivateDNS", "privatedns", "Private DNS"),
    ("TcaplusDB", "tcaplusdb", "TcaplusDB"),
    ("KeeWiDB", "keewidb", "KeeWiDB"),
    ("GME", "gme", "Game Multimedia Engine"),
    ("GSE", "gse", "Game Server Engine"),
    ("IoTExplorer", "iotexplorer", "IoT Explorer"),
    ("IoTHub", "iotcloud", "IoT Hub"),
    ("IoTVideo", "iotvideo", "IoT Video"),
    ("TBaaS", "tbaas", "Blockchain as a Service"),
    ("ESS", "ess", "Electronic Signature Service"),
    ("CSIP", "csip", "Cloud Security Center"),
    ("Advisor", "advisor", "Tencent Cloud Smart Advisor"),
    ("Coding", "coding", "CODING DevOps"),
    ("RUM", "rum", "Real User Monitoring"),
    ("APM", "apm", "Application Performance Management"),
    ("CAT", "cat", "Cloud Automated Testing"),
    ("PTS", "pts", "Performance Testing Service"),
    ("CFG", "cfg", "Chaotic Fault Generator"),
    ("EIAM", "eiam", "Employee Identity and Access Management"),
    ("MQTT", "mqtt", "MQTT"),
    ("TRocket", "trocket", "TDMQ for RocketMQ"),
    ("TRabbit", "trabbit", "TDMQ for RabbitMQ"),
    ("CTSDB", "ctsdb", "Time series database CTSDB"),
    ("Config", "config", "Config"),
    ("TCM", "tcm", "Tencent Cloud Mesh"),
    ("CloudHSM", "cloudhsm", "Cloud Hardware Security Module"),
    ("SOE", "soe", "Smart Oral Evaluation"),
    ("TCI", "tci", "Tencent Classroom Intelligence"),
    ("ECC", "ecc", "English Composition Correction"),
    ("MRS", "mrs", "Medical Report Structuring"),
    ("TSW", "tsw", "Tencent Service Watcher"),
    ("TSE", "tse", "Tencent Cloud Service Engine"),
    ("MNA", "mna", "Multi-Network Acceleration"),
    ("Billing", "billing", "Billing center"),
    ("Cdwpg", "cdwpg", "Cloud Data Warehouse for PostgreSQL"),
    ("DLCData", "dlc", "Data Lake Compute data"),
    ("TDAI", "tdai", "TDAI"),
    ("TCHD", "tchd", "Tencent Cloud Health Dashboard"),
    ("Ccc", "ccc", "Cloud Contact Center"),
    ("TCaaS", "tcaas", "TCaaS"),
    ("Vcube", "vcube", "Audio and video terminal SDK"),
    ("SMH", "smh", "Smart Media Hosting"),
    ("IGTM", "igtm", "Intelligent Global Traffic Manager"),
    ("CSS", "css", "Cloud Streaming"),
    ("VRS", "vrs", "Voice Reproduction"),
    ("Tiia", "tiia", "Image Analysis"),
    ("Bda", "bda", "Body Analysis"),
    ("Aai", "aai", "Intelligent speech"),
    ("Sts", "sts", "Security Token Service"),
    ("Batch", "batch", "BatchCompute"),
    ("Region", "region", "Regions"),
    ("CDC", "cdc", "Cloud Dedicated Cluster"),
    ("CDZ", "cdz", "Cloud Dedicated Zone"),
    ("Thpc", "thpc", "High Performance Computing"),
    ("Gwlb", "gwlb", "Gateway Load Balancer"),
    ("Vpn", "vpc", "VPN Connections"),
    ("Eip", "vpc", "Elastic IP"),
    ("SSLPod", "sslpod", "SSL monitoring"),
    ("WSS", "wss", "SSL certificate hosting"),
    ("Tdid", "tdid", "Tencent Decentralized Identity"),
    ("Weilingwith", "weilingwith", "Weilingwith"),
    ("Dayu", "dayu", "DDoS protection (Dayu)"),
    ("Yunjing", "yunjing", "Host Security"),
    ("Partners", "partners", "Partner center"),
)
GENERATED_FIRST_ID = 700001


def _generated() -> tuple[Preset, ...]:
    presets = []
    for index, (product, service, title) in enumerate(PRODUCTS):
        read = [f"name/{service}:Describe*", f"name/{service}:List*", f"name/{service}:Get*"]
        presets += [
            Preset(
                GENERATED_FIRST_ID + 2 * index,
                f"Qcloud{product}FullAccess",
                f"Full read and write access to {title} ({service}).",
                service,
                [{"effect": "allow", "action": [f"name/{service}:*"], "resource": ["*"]}],
            ),
            Preset(
                GENERATED_FIRST_ID + 2 * index + 1,
                f"Qcloud{product}ReadOnlyAccess",
                f"Read-only access to {title} ({service}).",
                service,
                [{"effect": "allow", "action": read, "resource": ["*"]}],
            ),
        ]
    return tuple(presets)


PRESETS = NAMED_PRESETS + _generated()
# The CAM service namespaces a policy document may name (`name/<service>:<action>`).
SERVICES = frozenset({"*", "avc", "im", "ims", "cam", "sts", *(service for _, service, _ in PRODUCTS)})
