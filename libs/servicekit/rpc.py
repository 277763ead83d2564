"""`rpc`: nameko's RPC entrypoint, answering without a publisher confirm per reply.

nameko waits for a broker confirm on every reply (a round trip per call). A reply is transient: if
one were lost, the caller's timeout answers 503 and the client retries with its Idempotency-Key,
so the wait buys nothing and the call returns sooner without it.
"""

from __future__ import annotations

from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, SERIALIZER_CONFIG_KEY
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange


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
