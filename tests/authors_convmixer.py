"""The authors' ConvMixer as their code builds it: one ``nn.Sequential`` (PropGrad/Interventional-XAI, MIT).

The package runs timm's ConvMixer and renames the authors' keys; this copy of the original layout is the
independent reference its tests compare with: checkpoints written from it must load, and give its outputs.
"""
from torch import nn


class Residual(nn.Module):
    def __init__(self, fn: nn.Module):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


def authors_conv_mixer(dim, depth, kernel_size=9, patch_size=7, n_classes=1000, in_channels=3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size),
        nn.GELU(),
        nn.BatchNorm2d(dim),
        *[nn.Sequential(
            Residual(nn.Sequential(nn.Conv2d(dim, dim, kernel_size, groups=dim, padding="same"), nn.GELU(),
                                   nn.BatchNorm2d(dim))),
            nn.Conv2d(dim, dim, kernel_size=1),
            nn.GELU(),
            nn.BatchNorm2d(dim),
        ) for _ in range(depth)],
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(dim, n_classes),
    )
