"""gongjian (共建): residents take part in the renovation of old residential compounds."""
