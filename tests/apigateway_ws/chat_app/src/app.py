"""The AWS WebSocket chat sample's handlers (Python): nothing here knows about Nimbus."""

import json
import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def connect(event, context):
    table.put_item(Item={"connectionId": event["requestContext"]["connectionId"]})
    return {"statusCode": 200}


def disconnect(event, context):
    table.delete_item(Key={"connectionId": event["requestContext"]["connectionId"]})
    return {"statusCode": 200}


def send_message(event, context):
    ctx = event["requestContext"]
    apigw = boto3.client(
        "apigatewaymanagementapi", endpoint_url=f"https://{ctx['domainName']}/{ctx['stage']}"
    )
    message = json.loads(event["body"])["data"]
    for item in table.scan(ProjectionExpression="connectionId")["Items"]:
        try:
            apigw.post_to_connection(ConnectionId=item["connectionId"], Data=message.encode())
        except apigw.exceptions.GoneException:
            table.delete_item(Key={"connectionId": item["connectionId"]})
    return {"statusCode": 200}


def authorize(event, context):
    token = (event.get("queryStringParameters") or {}).get("token")
    return {
        "principalId": "chat-user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if token == "letmein" else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
    }
