# Copyright (c) mmvp contributors. All rights reserved.
"""The base of the datasets that take their protocol's arguments in their
own constructor (``H36MDataset(split='test', actions=['*'])`` rather than
``ClipDataset(protocol=dict(type='H36MMimProtocol', ...))``)."""
from typing import Tuple, Type

from .clip_dataset import ClipDataset
from .protocols import BaseClipProtocol

__all__ = ['ProtocolClipDataset']


class ProtocolClipDataset(ClipDataset):
    """A :class:`ClipDataset` that builds its protocol from its own
    constructor arguments.

    A subclass keeps its documented keyword arguments and hands them, as
    ``locals()``, to :meth:`_init_with_protocol`. Those named in
    :attr:`PROTOCOL_ARGS` go to the protocol class, the others (and
    ``split``, which every clip dataset records) to :class:`ClipDataset`;
    the protocol's resolved values named in :attr:`PROTOCOL_ATTRIBUTES`
    (e.g. a default clip stride) are copied onto the dataset.
    """

    #: Constructor arguments that belong to the protocol.
    PROTOCOL_ARGS: Tuple[str, ...] = ()
    #: Protocol attributes copied onto the dataset.
    PROTOCOL_ATTRIBUTES: Tuple[str, ...] = ()

    def _init_with_protocol(self, protocol_cls: Type[BaseClipProtocol],
                            arguments: dict, **protocol_extra) -> None:
        """Build the protocol and initialise the :class:`ClipDataset`.

        Args:
            protocol_cls (type): The protocol class.
            arguments (dict): The subclass constructor's ``locals()``: its
                arguments plus ``kwargs``; ``self``, ``__class__`` and the
                ``protocol`` argument (a name the subclass resolves) are
                left out.
            **protocol_extra: Further protocol arguments the subclass
                derives itself (e.g. the protocol's ``name``).
        """
        dataset_args = dict(arguments.get('kwargs', {}))
        protocol_args = dict(protocol_extra)
        for key, value in arguments.items():
            if key in ('self', '__class__', 'kwargs', 'protocol'):
                continue
            if key in self.PROTOCOL_ARGS:
                protocol_args[key] = value
            if key == 'split' or key not in self.PROTOCOL_ARGS:
                dataset_args[key] = value
        impl = protocol_cls(**protocol_args)
        for key in self.PROTOCOL_ATTRIBUTES:
            setattr(self, key, getattr(impl, key))
        super().__init__(protocol=impl, **dataset_args)
