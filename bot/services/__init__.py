"""Domain services: plain data in, plain data out, no chat framework inside.

The same services serve Telegram today and WeChat or a web page later.
"""
