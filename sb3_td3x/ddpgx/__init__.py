from sb3_td3x.ddpgx.ddpgx import DDPGX

__all__ = ["DDPGX"]
