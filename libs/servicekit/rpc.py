"""`rpc`: nameko's RPC entrypoint, answering without a publisher confirm per reply; `batch_rpc`: the
same, with concurrent calls handled together.

nameko waits for a broker confirm on every reply (a round trip per call). A reply is transient: if
one were lost, the caller's timeout answers 503 and the client retries with its Idempotency-Key,
so the wait buys nothing and the call returns sooner without it.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from functools import partial

from eventlet.queue import LightQueue
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, SERIALIZER_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled, MalformedRequest
from nameko.extensions import Entrypoint
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange

from . import metrics
from .messaging.batches import take_batch

log = logging.getLogger(__name__)


class _UnconfirmedPublisher(Publisher):
    use_confirms = False


class _Responder(Responder):
    publisher_cls = _UnconfirmedPublisher


class _RpcConsumer(RpcConsumer):
    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = _Responder(config[AMQP_URI_CONFIG_KEY], get_rpc_exchange(config),
                               config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
                               ssl=config.get(AMQP_SSL_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class _Rpc(Rpc):
    rpc_consumer = _RpcConsumer()


rpc = _Rpc.decorator


class _BatchRpc(Entrypoint):
    """An RPC method whose concurrent calls are handled together, up to `batch_size` at a time: the
    method takes the calls' keyword arguments as a list and returns one reply (or exc_info) per call.
    It is routed like any nameko RPC method (same queue, same wire protocol), so callers cannot
    tell; what it buys is one transaction and one commit for every call waiting at that moment."""

    rpc_consumer = _RpcConsumer()

    def __init__(self, *parameters: str, batch_size: int = 50, **kwargs) -> None:
        self.parameters = frozenset(parameters)
        self.batch_size = batch_size
        super().__init__(**kwargs)

    def setup(self) -> None:
        self._waiting: LightQueue = LightQueue()
        self.rpc_consumer.register_provider(self)

    def start(self) -> None:
        self.container.spawn_managed_thread(self._dispatch_batches, identifier=f"{self.method_name}.batches")

    def stop(self) -> None:
        self.rpc_consumer.unregister_provider(self)
        # Calls received but not yet handed to a worker go back to the queue for another replica:
        # spawned after the workers were waited for, they could not be answered or acknowledged.
        while not self._waiting.empty():
            self.rpc_consumer.requeue_message(self._waiting.get_nowait()[1])

    def handle_message(self, body, message) -> None:
        kwargs = body.get("kwargs") if isinstance(body, dict) else None
        if not isinstance(kwargs, dict) or body.get("args") or set(kwargs) != self.parameters:
            # nameko's consumer answers this caller with the error; the batch never sees the call
            raise MalformedRequest(f"{self.method_name} takes keyword arguments {sorted(self.parameters)}")
        self._waiting.put((kwargs, message))

    def _dispatch_batches(self) -> None:
        while True:
            batch = take_batch(self._waiting, self.batch_size)
            messages = [message for _, message in batch]
            try:
                self.container.spawn_worker(self, ([kwargs for kwargs, _ in batch],), {}, context_data={},
                                            handle_result=partial(self._reply, messages))
            except ContainerBeingKilled:
                for message in messages:
                    self.rpc_consumer.requeue_message(message)
                continue
            metrics.RPC_BATCH_SIZE.labels(self.container.service_name, self.method_name).observe(len(batch))

    def _reply(self, messages, worker_ctx, result, exc_info):
        for index, message in enumerate(messages):
            if exc_info is not None:
                outcome = (None, exc_info)
            elif isinstance(result[index], tuple):  # that call failed alone: its caller gets the error
                outcome = (None, result[index])
            else:
                outcome = (result[index], None)
            try:
                self.rpc_consumer.handle_result(message, *outcome)
            except Exception:  # the others still get their replies
                # Acknowledged all the same: redelivered, the call would be done a second time. Its
                # caller times out and retries with its Idempotency-Key.
                log.exception("the reply to %s could not be sent", self.method_name)
                with suppress(Exception):
                    self.rpc_consumer.queue_consumer.ack_message(message)
        return result, exc_info


batch_rpc = _BatchRpc.decorator
