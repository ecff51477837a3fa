from sb3_td3x.td7.policies import MlpPolicy, TD7Policy
from sb3_td3x.td7.td7 import TD7

__all__ = ["TD7", "MlpPolicy", "TD7Policy"]
