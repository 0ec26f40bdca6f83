"""``nimbus up`` hook: after the stack deploys, upload the chat UI and its config.json.

Gets the stack outputs as JSON in argv[1] (also in NIMBUS_STACK_OUTPUTS). On AWS run
``python scripts/upload_web.py --stack <name>`` after ``sam deploy`` instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import upload_web


def main(argv: list[str]) -> int:
    outputs = json.loads(argv[1] if len(argv) > 1 else os.environ["NIMBUS_STACK_OUTPUTS"])
    keys = upload_web.upload(
        outputs["WebsiteBucketName"], outputs["ApiUrl"], outputs["WebSocketUrl"]
    )
    print(f"genai-patterns: uploaded {len(keys)} web files; open {outputs.get('WebsiteUrl', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
