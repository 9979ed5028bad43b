"""Recommendations (猜你喜欢): implicit-feedback collaborative filtering over members and
products, blended with social signals, over what the member can order now."""
