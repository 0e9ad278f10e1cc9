"""`sngan`: the SNGAN baseline of Latent Space Conditioning (Durall et al. 2021, 4.2; Miyato et al. 2018)."""
from zoo.sngan.model import SNGAN

__all__ = ["SNGAN"]
