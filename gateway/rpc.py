"""Calling nameko RPC methods from asyncio, without blocking the event loop.

Speaks nameko's wire protocol: the request goes to the `nameko-rpc` topic exchange with routing key
`<service>.<method>` and body `{"args": [], "kwargs": {...}}`; the reply comes back on this client's
exclusive queue (bound to `nameko-rpc` under its own name) matched by correlation id.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aio_pika

RPC_EXCHANGE = "nameko-rpc"


class RpcUnavailable(RuntimeError):
    """The request could not be sent: nothing was done."""


class RpcOutcomeUnknown(RpcUnavailable):
    """The request was sent but no answer came in time: it may or may not have been done."""


class RpcRemoteError(RuntimeError):
    """The service failed unexpectedly while handling the request (its transaction rolled back)."""


class RpcClient:
    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection, timeout: float = 10.0) -> None:
        self._connection = connection
        self._timeout = timeout
        self._pending: dict[str, asyncio.Future] = {}
        self._reply_to = f"rpc.reply-gateway-{uuid.uuid4()}"

    async def start(self) -> None:
        # No publisher confirms: requests are transient; a lost one times out into a 503 the
        # client retries (with its Idempotency-Key), and the wait for a confirm would slow every call.
        channel = await self._connection.channel(publisher_confirms=False)
        self._exchange = await channel.declare_exchange(RPC_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(self._reply_to, exclusive=True, auto_delete=True)
        await queue.bind(self._exchange, routing_key=self._reply_to)
        await queue.consume(self._on_reply, no_ack=True)

    async def _on_reply(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(message.body)

    async def call(self, service: str, method: str, **kwargs: Any) -> Any:
        correlation_id = str(uuid.uuid4())
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        try:
            try:
                await self._exchange.publish(
                    aio_pika.Message(json.dumps({"args": [], "kwargs": kwargs}).encode(),
                                     content_type="application/json", correlation_id=correlation_id,
                                     reply_to=self._reply_to, delivery_mode=aio_pika.DeliveryMode.NOT_PERSISTENT),
                    routing_key=f"{service}.{method}", mandatory=True)
            except (aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
                raise RpcUnavailable(f"{service}.{method} could not be sent: {exc!r}") from exc
            try:
                body = await asyncio.wait_for(future, self._timeout)
            except TimeoutError as exc:
                raise RpcOutcomeUnknown(f"{service}.{method} did not answer in {self._timeout}s") from exc
        finally:
            self._pending.pop(correlation_id, None)
        reply = json.loads(body)
        if reply.get("error"):
            raise RpcRemoteError(f"{service}.{method} failed: {reply['error'].get('value')}")
        return reply["result"]
