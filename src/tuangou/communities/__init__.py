"""Leaders (团长), their pickup points (自提点) and communities (社群)."""
