"""What civil servants use: joining and their profile, the questions they answer, /wistjedat."""
