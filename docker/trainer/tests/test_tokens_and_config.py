"""The tiny backend's tokenization equals the fake vLLM server's; settings from the environment."""
import pytest

from differad_trainer.config import load_config
from differad_trainer.policy.fake_tokens import encode_messages, encode_prompt, fake_token_id


def test_prompt_ids_equal_the_fake_vllm_servers():
    # Computed with toFakePromptIds / toFakeTokenId of packages/testing/src/fake-vllm/fake-tokens.ts
    # (npx tsx): the last 2 of 64 image placeholders, then the texts' tokens (emoji = 2 UTF-16 units).
    texts = ['Find the anomaly: <think>', 'x1=12,\u00a0y \U0001F600 \u00dcn\u00efcode\t\n end', '']
    assert encode_prompt(texts, 1)[62:] == [
        151655, 151655, 26036, 130169, 11990, 130169, 22268, 148263, 130169, 132549, 68261, 87787, 142705, 94454, 4930,
        94454, 27311, 40645, 12233, 15086, 130169, 76146, 111241, 130169, 63189, 95563, 132712, 115950, 38216, 21140]
    assert fake_token_id(map(ord, 'hello')) == 81733


def test_chat_messages_are_tokenized_in_order_with_images_first():
    messages = [
        {'role': 'system', 'content': 'Be brief'},
        {'role': 'user', 'content': [{'type': 'image', 'image': 0}, {'type': 'text', 'text': 'Where'}, {'type': 'image', 'image': 1}]},
    ]
    ids = encode_messages(messages)
    assert ids[:128] == [151655] * 128
    assert ids[128:] == encode_prompt(['Be brief', 'Where'], 0)
    assert len(ids) == 128 + 4  # "Be", " ", "brief", "Where"


def test_config_reads_the_environment_and_names_bad_variables():
    config = load_config({'DIFFERAD_TRAINER_PORT': '9000', 'DIFFERAD_TRAINER_REFERENCE': 'false', 'DIFFERAD_TRAINER_FORWARD_CHUNK': '2'})
    assert (config.port, config.reference, config.forward_chunk, config.keeps_reference) == (9000, False, 2, False)
    assert load_config({}).keeps_reference is True and load_config({}, port=0).port == 0
    with pytest.raises(ValueError, match='DIFFERAD_TRAINER_PORT'):
        load_config({'DIFFERAD_TRAINER_PORT': 'eighty'})
    with pytest.raises(ValueError, match='DIFFERAD_TRAINER_FREEZE_VISION'):
        load_config({'DIFFERAD_TRAINER_FREEZE_VISION': 'maybe'})
    with pytest.raises(ValueError, match='DIFFERAD_TRAINER_MODEL'):
        load_config({'DIFFERAD_TRAINER_BACKEND': 'hf'})
    assert load_config({'DIFFERAD_TRAINER_BACKEND': 'hf', 'DIFFERAD_TRAINER_MODEL': 'Qwen/Qwen2-VL-2B-Instruct'}).keeps_reference is False
