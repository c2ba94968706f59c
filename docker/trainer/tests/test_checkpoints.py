"""Checkpoint round trip, atomic files, path confinement and the weight send (tiny backend)."""
import os

import pytest
import torch
from builders import RUN, fb_request, method_group, tiny_service

from differad_trainer.errors import TrainerError


def step(service, n, lr=0.005):
    reply = service.forward_backward(fb_request([method_group(service)], step=n))
    service.optim_step({'run': RUN, 'step': n, 'lr': lr})
    return reply


def test_a_checkpoint_restores_weights_step_and_adam_moments(tmp_path):
    service = tiny_service(tmp_path)
    g = method_group(service)  # fixed sampling log-probs: the loss moves only with the weights
    probe = lambda n: service.forward_backward(fb_request([g], step=n))['loss']  # noqa: E731
    probe(0)
    service.optim_step({'run': RUN, 'step': 0, 'lr': 0.005})
    with pytest.raises(TrainerError) as e:
        service.save_checkpoint({'run': RUN, 'step': 3})
    assert e.value.code == 'TRAINER_STEP_CONFLICT'
    saved = service.save_checkpoint({'run': RUN, 'step': 0})
    assert saved == {'run': RUN, 'step': 0, 'weight_version': 1, 'path': str(tmp_path / 'checkpoints' / RUN / 'step-00000000.pt')}
    assert os.listdir(os.path.dirname(saved['path'])) == ['step-00000000.pt']  # no temp file left behind
    at_save = probe(1)
    service.optim_step({'run': RUN, 'step': 1, 'lr': 0.005})
    moved = probe(2)
    assert moved != at_save

    assert service.load_checkpoint({'path': saved['path']}) == saved
    assert service.health()['step'] == 0 and service.health()['pending'] is None and service.health()['weight_version'] == 1
    assert probe(1) == pytest.approx(at_save, abs=1e-9)
    service.optim_step({'run': RUN, 'step': 1, 'lr': 0.005})
    assert probe(2) == pytest.approx(moved, abs=1e-9)  # same Adam moments → same update

    assert service.load_checkpoint({'run': RUN, 'step': 0})['weight_version'] == 1


def test_a_fresh_trainer_resumes_from_a_checkpoint(tmp_path):
    first = tiny_service(tmp_path)
    step(first, 0)
    saved = first.save_checkpoint({'run': RUN, 'step': 0, 'path': 'named/ckpt.pt'})
    assert saved['path'] == str(tmp_path / 'checkpoints' / 'named' / 'ckpt.pt')
    second = tiny_service(tmp_path, seed=7)  # other starting weights
    second.load_checkpoint({'path': 'named/ckpt.pt'})
    for a, b in zip(first.policy.model.parameters(), second.policy.model.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(first.policy.reference.parameters(), second.policy.reference.parameters()):
        assert torch.equal(a, b)
    assert second.health()['run'] == RUN
    assert second.optim_step({'run': RUN, 'step': 0, 'lr': 0.1})['duplicate'] is True


def test_missing_foreign_and_escaping_checkpoints(tmp_path):
    service = tiny_service(tmp_path)
    cases = [
        ({'path': 'nope.pt'}, 'TRAINER_CHECKPOINT_NOT_FOUND'),
        ({'path': '../outside.pt'}, 'TRAINER_REQUEST_INVALID'),
        ({'path': '/etc/passwd'}, 'TRAINER_REQUEST_INVALID'),
    ]
    os.makedirs(tmp_path / 'checkpoints', exist_ok=True)
    (tmp_path / 'checkpoints' / 'garbage.pt').write_bytes(b'not a checkpoint')
    torch.save({'something': 'else'}, tmp_path / 'checkpoints' / 'foreign.pt')
    cases += [({'path': 'garbage.pt'}, 'TRAINER_CHECKPOINT_INVALID'), ({'path': 'foreign.pt'}, 'TRAINER_CHECKPOINT_INVALID')]
    for request, code in cases:
        with pytest.raises(TrainerError) as e:
            service.load_checkpoint(request)
        assert e.value.code == code, request


def test_a_path_the_file_system_would_refuse_is_a_bad_request_naming_path(tmp_path):
    # A NUL or an over-long name once escaped as ValueError/ENAMETOOLONG, a 500 (schemathesis found it).
    service = tiny_service(tmp_path)
    step(service, 0)
    for path in ['a\0b.pt', 'x' * 201 + '.pt', 'd' * 300 + '/model.pt']:
        for call in (lambda: service.send_weights({'version': 1, 'backend': 'disk', 'path': path}),
                     lambda: service.save_checkpoint({'run': RUN, 'step': 0, 'path': path}),
                     lambda: service.load_checkpoint({'path': path})):
            with pytest.raises(TrainerError) as e:
                call()
            assert e.value.code == 'TRAINER_REQUEST_INVALID' and e.value.details['fields'][0]['field'] == 'path', path
    assert service.send_weights({'version': 1, 'backend': 'disk', 'path': 'y' * 200})['bytes'] > 0


def test_disk_weights_are_written_atomically_for_the_current_version(tmp_path):
    service = tiny_service(tmp_path)
    with pytest.raises(TrainerError) as e:
        service.send_weights({'version': 5, 'backend': 'disk'})
    assert e.value.code == 'TRAINER_VERSION_MISMATCH'
    step(service, 0)
    sent = service.send_weights({'version': 1, 'backend': 'disk'})
    assert sent['path'] == str(tmp_path / 'weights' / 'v00000001') and sent['bytes'] > 0
    files = sorted(os.listdir(sent['path']))
    assert files in (['config.json', 'model.pt'], ['config.json', 'model.safetensors'])
    assert sorted(os.listdir(tmp_path / 'weights')) == ['v00000001']
    if 'model.pt' in files:
        tensors = torch.load(os.path.join(sent['path'], 'model.pt'), weights_only=True)
        assert torch.equal(tensors['head.weight'], service.policy.model.head.weight.detach())
    again = service.send_weights({'version': 1, 'backend': 'disk', 'path': 'shared/current'})
    assert again['path'] == str(tmp_path / 'weights' / 'shared' / 'current')
    service.send_weights({'version': 1, 'backend': 'disk', 'path': 'shared/current'})  # replaces it
    assert sorted(os.listdir(tmp_path / 'weights' / 'shared')) == ['current']


def test_the_weight_manifest_lists_every_parameter_in_send_order(tmp_path):
    service = tiny_service(tmp_path)
    with pytest.raises(TrainerError) as e:
        service.weights_manifest({'version': 3})
    assert e.value.code == 'TRAINER_VERSION_MISMATCH'
    manifest = service.weights_manifest({'version': 0})
    params = list(service.policy.named_weights())
    assert manifest['version'] == 0 and manifest['names'] == [name for name, _ in params]
    assert manifest['dtypes'] == [str(t.dtype).replace('torch.', '') for _, t in params] and 'float32' in manifest['dtypes']
    assert manifest['shapes'] == [list(t.shape) for _, t in params]
    head = manifest['names'].index('head.weight')
    assert manifest['shapes'][head] == list(service.policy.model.head.weight.shape)
    step(service, 0)
    assert service.weights_manifest({'version': 1}) == {**manifest, 'version': 1}


def test_nccl_and_lora_say_what_is_missing(tmp_path):
    service = tiny_service(tmp_path)
    with pytest.raises(TrainerError) as e:
        service.send_weights({'version': 0, 'backend': 'nccl', 'options': {}})
    assert e.value.code == 'TRAINER_REQUEST_INVALID' and e.value.details['fields'][0]['field'] == 'options.master_address'
    options = {'master_address': '127.0.0.1', 'master_port': 29555, 'world_size': 2}
    with pytest.raises(TrainerError) as e:
        service.send_weights({'version': 0, 'backend': 'nccl', 'options': options})
    assert e.value.code == 'TRAINER_BACKEND_UNSUPPORTED' and 'vllm' in e.value.message.lower()
    with pytest.raises(TrainerError) as e:
        service.send_weights({'version': 0, 'backend': 'lora'})
    assert e.value.code == 'TRAINER_BACKEND_UNSUPPORTED'
    assert not os.path.exists(tmp_path / 'weights') or os.listdir(tmp_path / 'weights') == []
