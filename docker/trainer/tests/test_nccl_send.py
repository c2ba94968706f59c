"""The nccl weight send's options and transfer-group lifetime (weights.py), against a stand-in vLLM sender.

vLLM 0.23.0's NCCLWeightTransferEngine.trainer_init / trainer_send_weights and
NCCLTrainerSendWeightsArgs (vllm/distributed/weight_transfer/nccl_engine.py) are
replaced by recorders; the real ones need CUDA and run in the image only.
"""
import dataclasses

import pytest
from builders import tiny_service

from differad_trainer import weights
from differad_trainer.errors import TrainerError

OPTIONS = {'master_address': '127.0.0.1', 'master_port': 29600, 'world_size': 2}


class FakeGroup:
    def __init__(self, info):
        self.info = info
        self.destroyed = False

    def destroy(self):
        self.destroyed = True


@dataclasses.dataclass
class SendArgs:
    group: object
    packed: bool = False
    packed_buffer_size_bytes: int = 1 << 30
    packed_num_buffers: int = 2


class FakeEngine:
    groups = []
    sends = []
    fail_next = False

    @classmethod
    def trainer_init(cls, info):
        cls.groups.append(FakeGroup(info))
        return cls.groups[-1]

    @classmethod
    def trainer_send_weights(cls, iterator, trainer_args):
        assert not trainer_args.group.destroyed
        names = [name for name, _ in iterator]
        if cls.fail_next:
            cls.fail_next = False
            raise RuntimeError('NCCL error: remote process exited')
        cls.sends.append((trainer_args, names))


@pytest.fixture
def sender(monkeypatch):
    FakeEngine.groups, FakeEngine.sends, FakeEngine.fail_next = [], [], False
    monkeypatch.setattr(weights, '_import_sender', lambda: (FakeEngine, SendArgs))
    yield FakeEngine
    weights.drop_group()


def send(service, **options):
    return service.send_weights({'version': 0, 'backend': 'nccl', 'options': {**OPTIONS, **options}})


def test_packed_defaults_to_false_like_vllms_update_info_and_is_honoured(tmp_path, sender):
    service = tiny_service(tmp_path)
    reply = send(service)
    assert reply['backend'] == 'nccl' and reply['bytes'] > 0
    assert sender.sends[-1][0].packed is False
    assert sender.sends[-1][1] == [name for name, _ in service.policy.named_weights()]
    send(service, packed=True, packed_buffer_size_bytes=1 << 20, packed_num_buffers=3)
    args = sender.sends[-1][0]
    assert (args.packed, args.packed_buffer_size_bytes, args.packed_num_buffers) == (True, 1 << 20, 3)
    for bad in ({'packed': 'yes'}, {'packed_num_buffers': True}, {'init': 1}):
        with pytest.raises(TrainerError) as e:
            send(service, **bad)
        assert e.value.code == 'TRAINER_REQUEST_INVALID' and e.value.details['fields'][0]['field'] == f'options.{next(iter(bad))}'


def test_the_configured_default_applies_when_the_request_gives_none(tmp_path, sender):
    service = tiny_service(tmp_path, nccl_packed=True)
    send(service)
    assert sender.sends[-1][0].packed is True
    send(service, packed=False)
    assert sender.sends[-1][0].packed is False


def test_init_tears_the_group_down_and_creates_a_fresh_one(tmp_path, sender):
    service = tiny_service(tmp_path)
    send(service, init=True)
    send(service)
    assert len(sender.groups) == 1  # a plain send reuses the group
    send(service, init=True)  # e.g. a restarted orchestrator re-inits vLLM
    assert len(sender.groups) == 2 and sender.groups[0].destroyed and not sender.groups[1].destroyed
    assert sender.sends[-1][0].group is sender.groups[1]
    send(service, master_port=29601)  # another address: the old group goes
    assert len(sender.groups) == 3 and sender.groups[1].destroyed
    assert sender.groups[2].info == {**OPTIONS, 'master_port': 29601}


def test_a_failed_send_drops_the_group(tmp_path, sender):
    service = tiny_service(tmp_path)
    send(service)
    sender.fail_next = True
    with pytest.raises(TrainerError) as e:
        send(service)
    assert e.value.code == 'TRAINER_INTERNAL' and e.value.details == {'nccl_group_dropped': True}
    assert sender.groups[0].destroyed and weights.drop_group() is False
    send(service)  # the retry re-creates the group instead of reusing the broken one
    assert len(sender.groups) == 2 and sender.sends[-1][0].group is sender.groups[1]


def install_vllm_0_32(monkeypatch):
    """vLLM 0.32.0's module layout: nccl_engine without the 0.2x sender names, the primitives beside it."""
    import sys
    import types

    calls = {'init': [], 'broadcast': [], 'producer': []}

    class Communicator:
        def broadcast(self, tensor, src, stream):
            assert tensor.is_contiguous() and src == 0
            calls['broadcast'].append(tensor.clone())

    def trainer_init(info):
        calls['init'].append(info)
        return Communicator()

    def producer(iterator, group, src, post_iter_func, buffer_size_bytes, num_buffers):
        calls['producer'].append(([post_iter_func(item).clone() for item in iterator], src, buffer_size_bytes, num_buffers))

    names = ['vllm', 'vllm.distributed', 'vllm.distributed.weight_transfer']
    for name in names:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    base = 'vllm.distributed.weight_transfer.'
    monkeypatch.setitem(sys.modules, base + 'nccl_engine', types.ModuleType(base + 'nccl_engine'))
    common = types.ModuleType(base + 'nccl_common')
    common.trainer_init = trainer_init
    packed = types.ModuleType(base + 'packed_tensor')
    packed.DEFAULT_PACKED_BUFFER_SIZE_BYTES, packed.DEFAULT_PACKED_NUM_BUFFERS = 1 << 30, 2
    packed.packed_nccl_broadcast_producer = producer
    monkeypatch.setitem(sys.modules, base + 'nccl_common', common)
    monkeypatch.setitem(sys.modules, base + 'packed_tensor', packed)
    return calls


def test_vllm_0_32_sends_through_the_transfer_primitives(tmp_path, monkeypatch):
    calls = install_vllm_0_32(monkeypatch)
    service = tiny_service(tmp_path)
    expected = [t for _, t in service.policy.named_weights()]
    try:
        send(service, init=True)
        assert calls['init'] == [OPTIONS]
        assert len(calls['broadcast']) == len(expected) and all(a.equal(b) for a, b in zip(calls['broadcast'], expected))
        send(service, packed=True, packed_num_buffers=3)
        tensors, src, size, buffers = calls['producer'][-1]
        assert (src, size, buffers) == (0, 1 << 30, 3) and all(a.equal(b) for a, b in zip(tensors, expected))
        assert len(calls['init']) == 1
    finally:
        weights.drop_group()
