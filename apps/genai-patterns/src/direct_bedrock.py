# Pattern 0 of seed 003, "Lambda -> Bedrock": the workshop's handler exactly as written there.
# Invoke it with {"image": "<base64 JPEG>"} (nimbus invoke / aws lambda invoke); no API in front.
import json
import boto3
brt = boto3.client(service_name='bedrock-runtime')

def lambda_handler(event, context):
    body = json.dumps({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 1000,
        "messages": [{
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text":"Create a 500 word car advert..."
                },
                {
                    "type": "image",
                    "source": {"type": "base64","media_type":"image/jpeg","data": event['image']}
                }
            ]
        }]
    })

    response = brt.invoke_model(
        body=body,
        modelId='anthropic.claude-3-sonnet-20240229-v1:0',
        accept='application/json',
        contentType='application/json'
    )

    response_body = json.loads(response.get('body').read())
    return {'statusCode': 200, 'body': response_body["content"][0]["text"]}
