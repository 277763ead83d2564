"""How the pipelined publisher counts the broker's confirms (pure logic, no broker)."""

from servicekit.messaging.publisher import ConfirmingPublisher


def publisher_with_outstanding(*tags: int) -> ConfirmingPublisher:
    publisher = ConfirmingPublisher("amqp://unused")
    publisher._unconfirmed = set(tags)
    return publisher


def test_a_multiple_ack_confirms_every_tag_up_to_it() -> None:
    publisher = publisher_with_outstanding(1, 2, 3, 4, 5)
    publisher._on_ack(3, multiple=True)
    assert publisher._unconfirmed == {4, 5}


def test_a_single_ack_confirms_only_its_tag() -> None:
    publisher = publisher_with_outstanding(1, 2, 3)
    publisher._on_ack(2, multiple=False)
    assert publisher._unconfirmed == {1, 3}


def test_a_nack_is_remembered_so_the_batch_is_not_marked_published() -> None:
    publisher = publisher_with_outstanding(1, 2)
    publisher._on_nack(2, multiple=True)
    assert publisher._nacked and not publisher._unconfirmed
