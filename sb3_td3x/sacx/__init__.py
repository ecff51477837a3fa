from sb3_td3x.sacx.sacx import SACX

__all__ = ["SACX"]
