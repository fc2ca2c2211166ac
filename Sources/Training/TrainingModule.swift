enum TrainingModule {}
