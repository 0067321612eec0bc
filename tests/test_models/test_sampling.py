# Copyright (c) mmvp contributors. All rights reserved.
import math

import pytest
import torch

from mmvp.models.predictors import (linear_sampling_prob,
                                    reverse_sampling_probs, sampling_mask)


def test_linear_schedule_values():
    # eta(itr) = max(0, 1 - 2e-5 * itr) for itr < 50000, 0 after
    # (model_equations.md#scheduled-sampling)
    assert linear_sampling_prob(1) == pytest.approx(1 - 2e-5)
    assert linear_sampling_prob(25000) == pytest.approx(0.5)
    assert linear_sampling_prob(49999) == pytest.approx(2e-5)
    assert linear_sampling_prob(50000) == 0.0
    assert linear_sampling_prob(10, start=0.5, rate=0.1, stop_iter=100) == 0
    assert linear_sampling_prob(
        3, start=0.5, rate=0.1, stop_iter=100) == pytest.approx(0.2)


def test_reverse_schedule_values():
    assert reverse_sampling_probs(10) == (0.5, 0.5)
    r, e = reverse_sampling_probs(30000)
    assert r == pytest.approx(1 - 0.5 * math.exp(-1.0))
    assert e == pytest.approx(0.5 - 0.5 * 5000 / 25000)
    assert reverse_sampling_probs(50000) == (1.0, 0.0)
    r, e = reverse_sampling_probs(
        5000 + 2500, start_iter=5000, stop_iter=50000, alpha=2500)
    assert r == pytest.approx(1 - 0.5 * math.exp(-1.0))


def test_masks_at_test_time_read_context_only():
    for mode in (None, 'linear', 'reverse'):
        mask, _ = sampling_mask(3, 4, 8, mode, None, torch.device('cpu'))
        assert mask.shape == (3, 7)
        assert torch.equal(mask[0], torch.tensor([1., 1, 1, 1, 0, 0, 0]))


def test_linear_mask_statistics_and_structure():
    g = torch.Generator().manual_seed(0)
    mask, info = sampling_mask(
        4000, 10, 20, 'linear', 25000, torch.device('cpu'), generator=g)
    assert info['ss_prob'] == pytest.approx(0.5)
    assert torch.all(mask[:, :10] == 1)
    assert mask[:, 10:].mean().item() == pytest.approx(0.5, abs=0.01)
    mask, _ = sampling_mask(8, 10, 20, 'linear', 60000, torch.device('cpu'))
    assert torch.all(mask[:, 10:] == 0)


def test_reverse_mask_statistics_and_structure():
    g = torch.Generator().manual_seed(0)
    mask, info = sampling_mask(
        4000, 4, 8, 'reverse', 30000, torch.device('cpu'), generator=g)
    r_eta, eta = reverse_sampling_probs(30000)
    assert info == dict(ss_prob=eta, rss_prob=r_eta)
    assert torch.all(mask[:, 0] == 1)
    assert mask[:, 1:4].mean().item() == pytest.approx(r_eta, abs=0.015)
    assert mask[:, 4:].mean().item() == pytest.approx(eta, abs=0.015)


def test_unknown_mode():
    with pytest.raises(ValueError, match='sampling mode'):
        sampling_mask(1, 2, 4, 'cosine', 1, torch.device('cpu'))
