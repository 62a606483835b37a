"""Experiments that reproduce the paper's sections, built on the core.

Each module here may need extras (the VAE needs PyTorch and scikit-learn); the core never
imports this subpackage, so ``import difficulty`` stays light.
"""
