"""Run time: the pure routing policy and the deployment table a plan gives it."""
