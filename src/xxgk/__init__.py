"""xxgk: the annual government-information-disclosure statistics (政府信息公开情况统计表)."""

__version__ = "0.1.0"
