# Copyright (c) mmvp contributors. All rights reserved.
from .complexity import (H36M_SETTINGS, PAPER_TABLE2, ComplexityResult,
                         LayerCount, build_model_for_counting,
                         closest_paper_row, count_complexity, describe_model,
                         format_count, match_paper_row, sequence_settings)

__all__ = [
    'ComplexityResult', 'LayerCount', 'count_complexity',
    'build_model_for_counting', 'describe_model', 'sequence_settings',
    'match_paper_row', 'closest_paper_row', 'format_count', 'PAPER_TABLE2',
    'H36M_SETTINGS'
]
